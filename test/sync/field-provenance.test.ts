import { describe, expect, it } from 'vitest';
import type { DingTalkUser, WeComUserPayload } from '../../lib/ports';
import { fromListing, keepUnknownFields, knownFieldsOnly } from '../../lib/sync/field-provenance';

const listed: DingTalkUser = { userid: 'u', name: 'U', dept_id_list: [2] };
const fetched: DingTalkUser = { ...listed, manager_userid: 'm' };
const mapped: WeComUserPayload = { userid: 'u', name: 'U', department: [2], direct_leader: [] };

describe('field provenance', () => {
  it('a listing item without manager_userid cannot tell the manager; one that has it can', () => {
    expect(fromListing(listed).unknownFields).toEqual(['manager_userid']);
    expect(fromListing(fetched)).toBe(fetched);
  });

  it('an unknown field keeps the value last written, or is left out when none was', () => {
    const user = fromListing(listed);
    expect(keepUnknownFields(mapped, user, { ...mapped, direct_leader: ['m'] })).toEqual({ ...mapped, direct_leader: ['m'] });
    expect(keepUnknownFields(mapped, user, undefined)).not.toHaveProperty('direct_leader');
    expect(keepUnknownFields({ ...mapped, name: 'V' }, user, { ...mapped, direct_leader: ['m'] })).toMatchObject({ name: 'V', direct_leader: ['m'] });
  });

  it('a record that tells everything is used as mapped', () => {
    expect(keepUnknownFields(mapped, fetched, { ...mapped, direct_leader: ['x'] })).toBe(mapped);
    expect(knownFieldsOnly(mapped, fetched)).toBe(mapped);
  });

  it('only known fields are sent', () => {
    expect(knownFieldsOnly({ ...mapped, direct_leader: ['m'] }, fromListing(listed))).toEqual({ userid: 'u', name: 'U', department: [2] });
  });
});
