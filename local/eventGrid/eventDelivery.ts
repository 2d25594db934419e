import type { InvocationRequest } from '../functionsCore/invoker';
import type { RegisteredFunction } from '../functionsCore/registry';
import { runFunction, type FunctionRunOptions } from '../runFunction';
import type { TopicEvent } from './eventSchemas';

/** A delivery of one event to one Event Grid trigger function that failed. */
export interface EventDeliveryFailure {
  functionName: string;
  eventId: string;
  invocationId: string;
}

/**
 * Builds the invocation of an Event Grid trigger function for one event. `@azure/functions`
 * passes the parsed JSON unchanged to the handler, so it receives the event object as sent, in
 * its own schema. As in the Event Grid extension, the event's `data` is also trigger metadata.
 */
export function toEventGridInvocation(event: Record<string, unknown>): InvocationRequest {
  return {
    triggerData: { json: JSON.stringify(event) },
    triggerMetadata: { data: { json: JSON.stringify(event.data ?? null) } },
  };
}

/**
 * Delivers every event to every function in `functions`. Each function receives the events one
 * at a time in their order, and the functions run concurrently. A failed delivery does not stop
 * the others. Returns the failed deliveries, so that the publisher can send the events again.
 */
export async function deliverEvents(options: FunctionRunOptions, functions: RegisteredFunction[], events: TopicEvent[]): Promise<EventDeliveryFailure[]> {
  const failuresByFunction = await Promise.all(
    functions.map(async (fn) => {
      const failures: EventDeliveryFailure[] = [];
      for (const event of events) {
        const result = await runFunction(options, fn, toEventGridInvocation(event.body), { eventId: event.id, eventType: event.type, eventSchema: event.schema });
        if (result.outcome === 'failed') {
          failures.push({ functionName: fn.name, eventId: event.id, invocationId: result.invocationId });
        }
      }
      return failures;
    }),
  );
  return failuresByFunction.flat();
}
