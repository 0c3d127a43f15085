import { useEffect, useState } from 'react';

/** The console's pages live under /console/; moving between them changes the history, never reloads the page. */
export const base = '/console';

export type Page = 'overview' | 'orders' | 'inventory' | 'products' | 'imports' | 'dead-letters' | 'webhooks';

export const pages: readonly { page: Page; title: string }[] = [
  { page: 'overview', title: 'Overview' },
  { page: 'orders', title: 'Orders' },
  { page: 'inventory', title: 'Inventory' },
  { page: 'products', title: 'Products' },
  { page: 'imports', title: 'Imports' },
  { page: 'dead-letters', title: 'Dead letters' },
  { page: 'webhooks', title: 'Webhooks' },
];

/** Where the console is: a page, and for `/console/orders/{id}` the order shown. */
export interface Location { page: Page; orderId?: string }

/** The page a path names; the overview for the console's root and for paths it does not know. */
export function locationOf(pathname: string): Location {
  const parts = pathname.startsWith(`${base}/`) ? pathname.slice(base.length + 1).split('/') : [];
  const page = pages.find((entry) => entry.page === parts[0])?.page ?? 'overview';
  const id = page === 'orders' && parts[1] !== undefined && parts[1] !== '' ? decodeURIComponent(parts[1]) : undefined;
  return id === undefined ? { page } : { page, orderId: id };
}

export function pageOf(pathname: string): Page {
  return locationOf(pathname).page;
}

/** A path inside the console. */
export type ConsolePath = `${typeof base}/${string}`;

export function hrefOf(page: Page): ConsolePath {
  return `${base}/${page}`;
}

export function orderHref(id: string): ConsolePath {
  return `${base}/orders/${encodeURIComponent(id)}`;
}

/** Goes to `target` (a page, or a path under /console) in the page itself (history.pushState) and tells every listener. */
export function navigate(target: Page | ConsolePath): void {
  const href = target.startsWith(`${base}/`) ? target : hrefOf(target as Page);
  if (window.location.pathname === href) return;
  window.history.pushState(null, '', href);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

/** A click handler for a link inside the console: follows it without reloading, unless a modifier asks for a new tab. */
export function followLink(href: ConsolePath) {
  return (event: { button: number; metaKey: boolean; ctrlKey: boolean; shiftKey: boolean; altKey: boolean; preventDefault: () => void }) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(href);
  };
}

/** The current location, following the history (links, back and forward). */
export function useLocation(): Location {
  const [location, setLocation] = useState(() => locationOf(window.location.pathname));
  useEffect(() => {
    const follow = () => { setLocation(locationOf(window.location.pathname)); };
    window.addEventListener('popstate', follow);
    return () => { window.removeEventListener('popstate', follow); };
  }, []);
  return location;
}

/** The current page. */
export function usePage(): Page {
  return useLocation().page;
}
