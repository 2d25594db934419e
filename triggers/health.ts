import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { getDependencies, scrubSecretText, type Dependencies } from '../lib/dependencies';
import { errorMessageOf } from '../lib/errors';
import { healthFunctionName } from '../lib/functionNames';
import { problemResponse, problemTypes } from '../lib/http/problem';

/**
 * `GET /api/health` for load balancer probes such as Front Door's. It is anonymous, so its
 * response names a failing dependency and never an error message, a path or a connection string.
 */

/** Maximum time that one dependency check may take before the dependency counts as failing. */
export const healthCheckTimeoutInMilliseconds = 5000;

/**
 * Payload name that the payload store check looks up. Nothing is stored under it, so the check
 * reads metadata and never writes.
 */
export const healthProbePayloadName = 'health/probe';

export type HealthDependency = 'trackingStore' | 'payloadStore';

const noStoreHeaders = { 'Cache-Control': 'no-store' };

/** Runs `check` and rejects with a timeout error when it takes longer than `timeoutInMilliseconds`. */
async function withTimeout(check: () => Promise<unknown>, timeoutInMilliseconds: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`the check timed out after ${timeoutInMilliseconds} ms`)), timeoutInMilliseconds);
  });
  try {
    await Promise.race([check(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Checks that the tracking store runs a query and that the payload store completes a lookup.
 * Returns the dependencies that failed, in that order, and logs each failure with its error.
 */
export async function findFailingDependencies(dependencies: Dependencies, timeoutInMilliseconds = healthCheckTimeoutInMilliseconds): Promise<HealthDependency[]> {
  const checks: Record<HealthDependency, () => Promise<unknown>> = {
    trackingStore: () => dependencies.trackingStore.ping(),
    payloadStore: () => dependencies.payloadStore.exists(healthProbePayloadName),
  };
  const results = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      try {
        await withTimeout(check, timeoutInMilliseconds);
        return undefined;
      } catch (error) {
        dependencies.logger.error({ dependency: name, error: errorMessageOf(error) }, 'health check failed');
        return name as HealthDependency;
      }
    }),
  );
  return results.filter((name): name is HealthDependency => name !== undefined);
}

/** Responds 200 `{"status":"ok"}` when every dependency passes its check, and 503 problem+json naming the failing ones otherwise. */
export async function checkHealth(dependencies: Dependencies, timeoutInMilliseconds = healthCheckTimeoutInMilliseconds): Promise<HttpResponseInit> {
  const failing = await findFailingDependencies(dependencies, timeoutInMilliseconds);
  if (failing.length === 0) {
    return { status: 200, headers: { ...noStoreHeaders, 'Content-Type': 'application/json' }, body: JSON.stringify({ status: 'ok' }) };
  }
  return problemResponse(
    {
      type: problemTypes.dependencyUnavailable,
      title: 'Dependency unavailable',
      status: 503,
      detail: `The ${failing.join(' and ')} did not answer its health check. The app log has the error under "health check failed".`,
      extensions: { failingDependencies: failing },
    },
    noStoreHeaders,
  );
}

/**
 * Builds the dependencies for a health request. They open both stores together, so a failure
 * there names both of them.
 */
async function checkAppHealth(_request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  let dependencies: Dependencies;
  try {
    dependencies = getDependencies();
  } catch (error) {
    context.error('health check failed: the stores could not be opened', scrubSecretText(errorMessageOf(error)));
    return problemResponse(
      {
        type: problemTypes.dependencyUnavailable,
        title: 'Dependency unavailable',
        status: 503,
        detail: 'The app could not open its tracking store or payload store. The app log has the error under "health check failed".',
        extensions: { failingDependencies: ['trackingStore', 'payloadStore'] },
      },
      noStoreHeaders,
    );
  }
  return checkHealth(dependencies);
}

app.http(healthFunctionName, {
  methods: ['GET', 'HEAD'],
  route: 'health',
  authLevel: 'anonymous',
  handler: checkAppHealth,
});
