import { expect, test } from 'vitest';
import { alertQueries } from '../../infra/alerts';
import { eventGridTriggerFunctionName } from '../../infra/eventGrid';
import { deadLetterAlertMessage } from '../../lib/events/handleLifecycleEvent';
import { lifecycleEventFunctionName } from '../../lib/functionNames';

test('dead-letter alert searches the trigger line', () => {
  expect(alertQueries.deadLetters).toContain(`"${deadLetterAlertMessage}"`);
});

test('subscription targets the registered trigger', () => {
  expect(eventGridTriggerFunctionName).toBe(lifecycleEventFunctionName);
});
