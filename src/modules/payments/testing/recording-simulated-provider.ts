import { SimulatedPaymentProvider } from '../adapters/providers/simulated-payment-provider.ts';
import { RecordingPaymentProvider } from './recording-payment-provider.ts';

/** The simulated gateway, answering at once, behind a recording provider whose calls a test can make fail. */
export function aRecordingSimulatedProvider(): RecordingPaymentProvider {
  return new RecordingPaymentProvider(new SimulatedPaymentProvider({ delayMs: 0 }));
}
