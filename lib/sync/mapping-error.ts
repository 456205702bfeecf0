/**
 * The error every mapping rule throws for data WeCom cannot take. Its own file because both the
 * field mapping (mapping.ts) and the order compression (order.ts) throw it; callers import it
 * from mapping.ts.
 */

export type MappingErrorCode = 'invalid_userid' | 'no_name' | 'no_contact' | 'invalid_mobile' | 'no_department' | 'too_many_departments' | 'invalid_order';

/**
 * A permanent data error for one entity: retrying will not help until the data changes in
 * DingTalk. The message names the entity and says exactly what is wrong; it is stored as the
 * entity's `lastError` and shown to the operator.
 */
export class MappingError extends Error {
  override readonly name = 'MappingError';
  constructor(
    readonly code: MappingErrorCode,
    message: string,
  ) {
    super(message);
  }
}
