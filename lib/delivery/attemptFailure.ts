export type DeliveryOutcome = 'delivered' | 'retryable' | 'permanent';

/**
 * A classified failure inside one delivery attempt, such as a blocked address or a failed token
 * request. `deliverOnce` catches it and returns it as the attempt's result, so it never leaves
 * the attempt. The message must not contain a secret.
 */
export class AttemptFailure extends Error {
  override name = 'AttemptFailure';
  readonly outcome: Exclude<DeliveryOutcome, 'delivered'>;

  constructor(outcome: Exclude<DeliveryOutcome, 'delivered'>, message: string, options: ErrorOptions = {}) {
    super(message, options);
    this.outcome = outcome;
  }
}
