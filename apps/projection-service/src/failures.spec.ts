import { kvSubject } from '@cb/subjects';
import { JetStreamApiError } from '@nats-io/jetstream';
import {
  ClosedConnectionError,
  DrainingConnectionError,
  InvalidSubjectError,
  NoRespondersError,
  PermissionViolationError,
  RequestError,
  TimeoutError,
} from '@nats-io/transport-node';
import { NatsPlatformError } from '@cb/nats';
import { LeaseLostError } from './token-applier';
import { describeFailure, failureKind } from './failures';

/** An error answer of JetStream, as the lean publish and direct get report it. */
const answered = (status: number, errCode?: number): NatsPlatformError =>
  new NatsPlatformError('JETSTREAM', 'rejected', {
    cause: { code: status, ...(errCode !== undefined ? { err_code: errCode } : {}) },
  });
const apiError = (status: number, errCode: number): JetStreamApiError =>
  new JetStreamApiError({ code: status, err_code: errCode, description: 'api error' });

describe('failureKind: outages are transient, everything else is deterministic', () => {
  it.each([
    ['no responders (a stream electing a leader)', new NatsPlatformError('NO_RESPONDERS', 'x')],
    ['no answer in time (lost quorum, frozen server)', new NatsPlatformError('TIMEOUT', 'x')],
    ['a closed connection', new NatsPlatformError('CONNECTION', 'x')],
    ['compare-and-set churn', new NatsPlatformError('WRONG_LAST_SEQUENCE', 'x')],
    ['10008 JetStream system temporarily unavailable', answered(503, 10008)],
    ['10009 cluster can not handle request', answered(500, 10009)],
    ['10118 stream is offline', answered(500, 10118)],
    ['10119 consumer is offline', answered(500, 10119)],
    ['10023 insufficient resources', answered(503, 10023)],
    ['10047 insufficient storage', answered(500, 10047)],
    ['a direct get answered 503', answered(503)],
    ['the client: TimeoutError', new TimeoutError()],
    ['the client: NoRespondersError', new NoRespondersError(kvSubject('cb_stats_1', 'x'))],
    [
      'the client: RequestError of no responders',
      new RequestError('no responders', { cause: new NoRespondersError('s') }),
    ],
    ['the client: ClosedConnectionError', new ClosedConnectionError()],
    ['the client: DrainingConnectionError', new DrainingConnectionError()],
    ['the client: API error 10008', apiError(503, 10008)],
  ])('transient: %s', (_what, err) => {
    expect(failureKind(err)).toBe('transient');
  });

  it.each([
    ['10054 message size exceeds maximum allowed', answered(400, 10054)],
    ['an error answer without codes', new NatsPlatformError('JETSTREAM', 'unreadable ack')],
    ['a payload over max_payload', new NatsPlatformError('MAX_PAYLOAD', 'x')],
    ['a missing stream', new NatsPlatformError('STREAM_NOT_FOUND', 'x')],
    ['the client: API error 10014 consumer not found', apiError(404, 10014)],
    ['the client: an invalid subject', new InvalidSubjectError('a..b')],
    [
      'the client: a permission violation',
      new PermissionViolationError('denied', 'publish', kvSubject('x', 'y')),
    ],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'place')")],
    ['a RangeError', new RangeError('Invalid array length')],
    ['a foreign error named like a connection error', namedError('SocketConnectionError')],
    ['not an error at all', 'boom'],
  ])('deterministic: %s', (_what, err) => {
    expect(failureKind(err)).toBe('deterministic');
  });

  it('describes a failure by its stable code and message', () => {
    expect(describeFailure(new NatsPlatformError('NO_RESPONDERS', 'no responders on s'))).toEqual({
      code: 'NO_RESPONDERS',
      message: 'no responders on s',
    });
    expect(describeFailure(new LeaseLostError())).toEqual({
      code: 'LeaseLostError',
      message: 'the lease ended while applying the batch',
    });
    expect(describeFailure(42)).toEqual({ code: 'UNKNOWN', message: '42' });
  });
});

function namedError(name: string): Error {
  const err = new Error('not from NATS');
  err.name = name;
  return err;
}
