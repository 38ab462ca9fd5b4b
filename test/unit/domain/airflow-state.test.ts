import {
  isActiveTaskState,
  isFinishedDagRunState,
  isFinishedTaskState,
  normaliseTaskState,
} from '../../../src/domain/airflow-state';

describe('Airflow states', () => {
  it.each([
    ['none', null],
    ['', null],
    [null, null],
    [undefined, null],
    ['failed', 'failed'],
    ['some_future_state', 'some_future_state'],
  ])('normalises %p to %p', (input, expected) => {
    expect(normaliseTaskState(input)).toBe(expected);
  });

  it.each([
    ['queued', true, false],
    ['running', true, false],
    ['up_for_retry', true, false],
    ['success', false, true],
    ['failed', false, true],
    ['upstream_failed', false, true],
    ['skipped', false, true],
    [null, false, false],
  ])('classifies task state %p as active=%p finished=%p', (state, active, finished) => {
    expect([isActiveTaskState(state), isFinishedTaskState(state)]).toEqual([active, finished]);
  });

  it.each([
    ['queued', false],
    ['running', false],
    ['success', true],
    ['failed', true],
  ])('classifies DAG run state %p as finished=%p', (state, finished) => {
    expect(isFinishedDagRunState(state)).toBe(finished);
  });
});
