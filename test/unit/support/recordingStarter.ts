import type { OrchestrationStarter } from '../../../lib/ingest/acceptMessage';

export interface StartCall {
  name: string;
  instanceId: string;
  input: any;
}

/** Creates a starter that records startNew calls and reports every instance id as not found. */
export function createRecordingStarter(): OrchestrationStarter & { starts: StartCall[] } {
  const starts: StartCall[] = [];
  return {
    starts,
    async startNew(name, startOptions) {
      starts.push({ name, instanceId: startOptions.instanceId, input: startOptions.input });
      return startOptions.instanceId;
    },
    async getStatus(instanceId) {
      throw new Error(`DurableClient error: Durable Functions extension replied with HTTP 404 response for ${instanceId}.`);
    },
  };
}
