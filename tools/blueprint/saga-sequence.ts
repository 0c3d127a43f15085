import { byCodeUnit, code, mermaid, nodeId, page, table } from './markdown.ts';

interface Message { type: string; version: number }

/** The saga's definition as the orders module exports it (src/modules/orders/domain/order-saga.ts). */
export interface SagaDefinition<Step extends string = string, Compensation extends string = string> {
  steps: readonly { step: Step; statusWhileRunning: string; compensation: Compensation; succeeded: string }[];
  compensationsFor(steps: readonly Step[]): Compensation[];
  /** What orders sends (its message declaration): a step's command is the one named like the step. */
  sends: readonly Message[];
  /** What the saga reads (its subscription). */
  reads: readonly Message[];
  /** The events orders announces an order's start and end with. */
  placed: Message;
  confirmed: Message;
  cancelled: Message;
}

const nameOf = (message: Message): string => message.type.slice(message.type.indexOf('.') + 1);
const moduleOf = (message: Message): string => message.type.slice(0, message.type.indexOf('.'));
const shown = (message: Message): string => `${message.type} v${message.version}`;

/** The message orders sends for a step or a compensation: the one named like it; none or two is a definition the blueprint cannot draw. */
function commandFor(name: string, sends: readonly Message[]): Message {
  const found = sends.filter((message) => nameOf(message) === name);
  if (found.length !== 1 || found[0] === undefined) {
    throw new Error(`The saga's ${name} needs exactly one message named ${name} among those orders sends; found ${found.length}.`);
  }
  return found[0];
}

/** The reply the saga reads for a step that succeeded: the message of the step's module named like the last word of its timeline entry. */
function successReply(step: { succeeded: string }, command: Message, reads: readonly Message[]): Message | undefined {
  const word = step.succeeded.split('-').at(-1);
  return reads.find((message) => moduleOf(message) === moduleOf(command) && nameOf(message) === word);
}

function compensate<Step extends string, Compensation extends string>(saga: SagaDefinition<Step, Compensation>, undone: readonly Step[], why: string): string[] {
  const compensations = saga.compensationsFor(undone);
  // Nothing to undo: the order is cancelled at once, without waiting in CANCELLING.
  const out = compensations.length === 0 ? [`  Note over orders: ${why}, nothing to undo`] : [`  Note over orders: ${why} → CANCELLING`];
  for (const compensation of compensations) {
    const command = commandFor(compensation, saga.sends);
    out.push(`  orders->>${nodeId(moduleOf(command))}: ${shown(command)}`, `  ${nodeId(moduleOf(command))}-->>orders: ${compensation} done`);
  }
  out.push('  Note over orders: CANCELLED', `  orders-)subscribers: ${shown(saga.cancelled)}`);
  return out;
}

function participants(saga: SagaDefinition): string[] {
  const modules = [...new Set(saga.steps.map((step) => moduleOf(commandFor(step.step, saga.sends))))].sort(byCodeUnit);
  return ['sequenceDiagram', '  actor client as client', '  participant orders', ...modules.map((module) => `  participant ${nodeId(module)}`), '  participant subscribers as readers of orders events'];
}

/** The whole walk: each forward step, and under it what a failure of that step undoes. */
function sequence<Step extends string, Compensation extends string>(saga: SagaDefinition<Step, Compensation>): string[] {
  const out = [...participants(saga), '  client->>orders: POST /v1/orders', `  orders-)subscribers: ${shown(saga.placed)}`];
  const started: Step[] = [];
  for (const step of saga.steps) {
    const command = commandFor(step.step, saga.sends);
    const target = nodeId(moduleOf(command));
    const reply = successReply(step, command, saga.reads);
    started.push(step.step);
    out.push(`  Note over orders: ${step.statusWhileRunning}`, `  orders->>${target}: ${shown(command)}`);
    out.push(`  alt ${step.step} succeeds`, `    ${target}-->>orders: ${reply === undefined ? step.succeeded : shown(reply)}`);
    out.push(`  else ${step.step} fails`, `    ${target}-->>orders: ${step.step} failed`);
    out.push(...compensate(saga, started.slice(0, -1), `${step.step} failed`).map((line) => `  ${line}`));
    out.push(`  else no answer before the step deadline`);
    out.push(...compensate(saga, started, `${step.step} timed out`).map((line) => `  ${line}`), '  end');
  }
  out.push('  Note over orders: CONFIRMED', `  orders-)subscribers: ${shown(saga.confirmed)}`);
  return out;
}

/** A confirmed order cancelled by its owner or an admin: every step is undone. */
function cancellation<Step extends string, Compensation extends string>(saga: SagaDefinition<Step, Compensation>): string[] {
  return [...participants(saga), '  client->>orders: POST /v1/orders/{id}/cancel', ...compensate(saga, saga.steps.map((step) => step.step), 'cancelled by request')];
}

function stepRows<Step extends string, Compensation extends string>(saga: SagaDefinition<Step, Compensation>): string[][] {
  return saga.steps.map((step, index) => {
    const command = commandFor(step.step, saga.sends);
    const before = saga.steps.slice(0, index).map((earlier) => earlier.step);
    const undo = saga.compensationsFor(before).map((compensation) => shown(commandFor(compensation, saga.sends))).join(', ');
    return [String(index + 1), code(step.step), code(step.statusWhileRunning), shown(command), code(step.compensation), shown(commandFor(step.compensation, saga.sends)), undo];
  });
}

/** saga.md: the fulfilment saga as sequence diagrams, walked from its definition. */
export function renderSagaSequence<Step extends string, Compensation extends string>(saga: SagaDefinition<Step, Compensation>): string {
  const reads = [...saga.reads].map(shown).sort(byCodeUnit).join(', ');
  return page('The fulfilment saga',
    [
      'Walked from the saga\'s definition in `src/modules/orders/domain/order-saga.ts`: the steps in order with the status an order has while each runs and its compensation (`sagaSteps`), and what a failure or a cancellation undoes (`compensationsFor`, latest first).',
      'Derived beside it: the message each step or compensation sends is the one of that name among what orders sends (`orders-message-schemas.ts`); a success reply is the message of the step\'s module named like the last word of the step\'s timeline entry (`stock-reserved` → `inventory.reserved`). Which failure message answers which step is written in code only (`saga-consumer.ts`), so failures and compensation acknowledgements are labelled by the saga\'s own names; the messages the saga reads are listed below.',
    ].join('\n\n'),
    [
      '## Placing an order',
      mermaid(sequence(saga)),
      '## Cancelling a confirmed order',
      mermaid(cancellation(saga)),
      '## Steps',
      table(['#', 'step', 'order status while it runs', 'command', 'compensation', 'compensation command', 'a failure here sends'], stepRows(saga)),
      `The saga reads: ${reads}.`,
    ]);
}
