import { compileValidator } from './validate';
import { CommandRequest } from './commands';
import { CbEvent } from './events';
import { WorkflowDefinitionInput } from './definition';
import { ERROR_CODES, statusOf } from './errors';
import * as fs from 'node:fs';
import * as path from 'node:path';

const fixtures = path.join(__dirname, '../../../fixtures/workflows');

describe('schemas', () => {
  it('accepts every fixture workflow as a definition input', () => {
    const v = compileValidator(WorkflowDefinitionInput);
    const files = fs.readdirSync(fixtures).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const f of files) {
      const def: unknown = JSON.parse(fs.readFileSync(path.join(fixtures, f), 'utf8'));
      expect(v.errors(def)).toEqual([]);
    }
  });

  it('rejects unsafe ids and unknown fields with JSON-pointer paths', () => {
    const v = compileValidator(WorkflowDefinitionInput);
    const bad = {
      id: 'a.b',
      name: 'x',
      places: ['p q'],
      initialPlace: 'p',
      transitions: [],
      extra: 1,
    };
    const paths = v.errors(bad).map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['/id', '/places/0', '/extra']));
  });

  it('validates command requests', () => {
    const v = compileValidator(CommandRequest);
    const principal = { tenant: 'acme', keyId: 'AcmeKey000000001' };
    const fire = { type: 'FireTransition', workflowId: 'w', tokenId: 't', transition: 'go' };
    expect(v.check({ command: fire, principal })).toBe(true);
    // Every command names its principal, whose tenant is a subject token.
    expect(v.check({ command: fire })).toBe(false);
    for (const tenant of ['Acme', 'a.b', '', 'x'.repeat(33), '*']) {
      expect(v.check({ command: fire, principal: { tenant, keyId: 'root' } })).toBe(false);
    }
    const { transition: _t, ...noTransition } = fire;
    expect(v.check({ command: noTransition, principal })).toBe(false);
    expect(v.check({ command: { type: 'Explode' }, principal })).toBe(false);
    const remove = { type: 'DeleteToken', workflowId: 'w', tokenId: 't' };
    expect(v.check({ command: remove, principal, expectedVersion: 1 })).toBe(true);
    expect(v.check({ command: remove, principal, expectedVersion: -1 })).toBe(false);
  });

  it('validates events including timestamps', () => {
    const v = compileValidator(CbEvent);
    const state = {
      id: 't',
      workflowId: 'w',
      definitionVersion: 1,
      place: 'a',
      data: {},
      metadata: {},
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
      placeEnteredAt: '2026-01-01T00:00:00.000Z',
    };
    const created = {
      type: 'token.created.v1',
      eventId: 'e1',
      occurredAt: '2026-01-01T00:00:00.000Z',
      workflowId: 'w',
      tokenId: 't',
      place: 'a',
      state,
    };
    expect(v.errors(created)).toEqual([]);
    expect(v.check({ ...created, occurredAt: 'yesterday' })).toBe(false);
    expect(v.check({ ...created, type: 'token.exploded.v1' })).toBe(false);
  });

  it('has an HTTP status for every error code', () => {
    for (const code of ERROR_CODES) {
      expect(statusOf(code)).toBeGreaterThanOrEqual(400);
      expect(statusOf(code)).toBeLessThan(600);
    }
    expect(statusOf('VERSION_MISMATCH')).toBe(412);
    expect(statusOf('TRANSITION_NOT_ENABLED')).toBe(422);
  });
});
