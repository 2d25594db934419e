/** The engine's only source of time, so that tests can move it forward. */
export interface Clock {
  nowInMilliseconds(): number;
}

export const systemClock: Clock = {
  nowInMilliseconds: () => Date.now(),
};
