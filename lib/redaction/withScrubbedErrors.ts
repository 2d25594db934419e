import { scrubSecretText } from '../dependencies';

/**
 * Wraps an activity handler so that an error it throws carries no configured secret value in its
 * message or stack. The host logs a failed activity's error, and the host cannot know the
 * connector's secrets.
 */
export function withScrubbedErrors<TOutput>(
  handler: (input: unknown) => Promise<TOutput>,
  scrub: (text: string) => string = scrubSecretText,
): (input: unknown) => Promise<TOutput> {
  return async (input: unknown) => {
    try {
      return await handler(input);
    } catch (error) {
      if (error instanceof Error) {
        error.message = scrub(error.message);
        if (error.stack !== undefined) {
          error.stack = scrub(error.stack);
        }
      }
      throw error;
    }
  };
}
