import { app } from '@azure/functions';
import { getDependencies } from '../lib/dependencies';
import { handleLifecycleEvent } from '../lib/events/handleLifecycleEvent';
import { lifecycleEventFunctionName } from '../lib/functionNames';

/**
 * Event Grid trigger of the connector's own lifecycle events (CloudEvents 1.0). It logs a
 * dead-lettered delivery as an alert line and publishes no events, so it cannot start a loop.
 */
app.eventGrid(lifecycleEventFunctionName, {
  handler: (event: unknown) => {
    handleLifecycleEvent(event, getDependencies().logger);
  },
});
