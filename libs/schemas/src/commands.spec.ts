import { COMMAND_KINDS } from '@cb/subjects';
import { COMMAND_KIND_OF_TYPE, Command, commandKindOf, commandTypeOfKind } from './commands';

describe('the command kind of each command type', () => {
  const types = Command.anyOf.map((c) => c.properties.type.const as string);

  it('gives every command type one kind, and every kind one type', () => {
    expect(Object.keys(COMMAND_KIND_OF_TYPE).sort()).toEqual([...types].sort());
    expect(Object.values(COMMAND_KIND_OF_TYPE).sort()).toEqual([...COMMAND_KINDS].sort());
  });

  it('reads both ways', () => {
    expect(commandKindOf('FireTransition')).toBe('token.fire');
    expect(commandKindOf('DefineWorkflow')).toBe('workflow.define');
    for (const kind of COMMAND_KINDS) expect(commandKindOf(commandTypeOfKind(kind))).toBe(kind);
  });
});
