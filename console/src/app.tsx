import { useEffect, useRef, useState, type MouseEvent } from 'react';
import { onSessionChange, resume, signOut, type Claims } from './api.ts';
import { DeadLettersPage } from './pages/dead-letters.tsx';
import { ImportsPage } from './pages/imports.tsx';
import { InventoryPage } from './pages/inventory.tsx';
import { OrderDetailPage } from './pages/order-detail.tsx';
import { OrdersPage } from './pages/orders.tsx';
import { OverviewPage } from './pages/overview.tsx';
import { ProductsPage } from './pages/products.tsx';
import { SignInPage } from './pages/sign-in.tsx';
import { WebhooksPage } from './pages/webhooks.tsx';
import { hrefOf, navigate, pages, useLocation, type Page } from './router.ts';
import { Failure, Loading } from './states.tsx';

type Session = { state: 'resuming' } | { state: 'signed-out' } | { state: 'signed-in'; claims: Claims } | { state: 'failed'; error: unknown };

/** The console: a session resumed from the refresh cookie, or the sign-in page; then the pages. */
export function App() {
  const [session, setSession] = useState<Session>({ state: 'resuming' });
  useEffect(() => {
    const stop = onSessionChange((claims) => { setSession(claims === undefined ? { state: 'signed-out' } : { state: 'signed-in', claims }); });
    resume().catch((error: unknown) => { setSession({ state: 'failed', error }); });
    return stop;
  }, []);
  if (session.state === 'resuming') return <main className="centered"><Loading what="your session" /></main>;
  if (session.state === 'failed') return <main className="centered"><Failure error={session.error} retry={() => { window.location.reload(); }} /></main>;
  if (session.state === 'signed-out') return <SignInPage />;
  return <Shell claims={session.claims} />;
}

function Shell({ claims }: { claims: Claims }) {
  const { page, orderId } = useLocation();
  const heading = useRef<HTMLHeadingElement>(null);
  const title = orderId === undefined ? pages.find((entry) => entry.page === page)?.title ?? '' : `Order ${orderId}`;
  useEffect(() => {
    document.title = `${title} · OrderStream console`;
    // A new page is announced by moving focus to its heading (as a full load would start at the top).
    if (document.activeElement !== document.body) heading.current?.focus();
  }, [page, title]);
  const follow = (target: Page) => (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(target);
  };
  return (
    <>
      <a className="skip-link" href="#content">Skip to content</a>
      <header className="top">
        <span className="brand">OrderStream console</span>
        <nav aria-label="Console pages">
          <ul>
            {pages.map((entry) => (
              <li key={entry.page}>
                <a href={hrefOf(entry.page)} onClick={follow(entry.page)} aria-current={entry.page === page ? 'page' : undefined}>{entry.title}</a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="account">
          <span className="who">{claims.email}</span>
          <button type="button" onClick={() => { void signOut(); }}>Sign out</button>
        </div>
      </header>
      <main id="content">
        <h1 ref={heading} tabIndex={-1}>{title}</h1>
        {page === 'overview' ? <OverviewPage /> : null}
        {page === 'orders' && orderId === undefined ? <OrdersPage /> : null}
        {page === 'orders' && orderId !== undefined ? <OrderDetailPage key={orderId} id={orderId} /> : null}
        {page === 'inventory' ? <InventoryPage /> : null}
        {page === 'products' ? <ProductsPage /> : null}
        {page === 'imports' ? <ImportsPage /> : null}
        {page === 'dead-letters' ? <DeadLettersPage /> : null}
        {page === 'webhooks' ? <WebhooksPage /> : null}
      </main>
    </>
  );
}
