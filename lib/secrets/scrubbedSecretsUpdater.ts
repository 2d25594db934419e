import type { SecretScrubber } from '../redaction/secretScrubber';

/**
 * Returns a function that gives `scrubber` the current secret values after each refresh. A value
 * that a rotation replaced moves to the scrubber's added secrets, so that a late log line that
 * still contains the old value is scrubbed as well.
 */
export function createScrubbedSecretsUpdater(scrubber: SecretScrubber): (values: string[]) => void {
  let currentValues: string[] = [];
  return (values) => {
    const replaced = currentValues.filter((value) => !values.includes(value));
    if (replaced.length > 0) {
      scrubber.addSecrets(replaced);
    }
    scrubber.setSecrets(values);
    currentValues = [...values];
  };
}
