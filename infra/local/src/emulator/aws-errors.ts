// AWS errors as the Cloud Map JSON 1.1 protocol returns them. Every failure the
// API server sends is an AwsError: a stable `code` (the `__type` the SDK maps to
// its typed exception class), the HTTP status from the service model, and any
// extra members the SDK exception carries (NamespaceId, DuplicateOperationId...).

/** Extra members copied into the error body next to `Message`. */
export type AwsErrorFields = Readonly<Record<string, string>>

export class AwsError extends Error {
  readonly code: string
  readonly statusCode: number
  readonly fields: AwsErrorFields

  constructor(code: string, statusCode: number, message: string, fields: AwsErrorFields = {}) {
    super(message)
    this.name = 'AwsError'
    this.code = code
    this.statusCode = statusCode
    this.fields = fields
  }

  /** The JSON body: `__type` first (what the SDK reads), then `Message` and extras. */
  toBody(): Record<string, string> {
    return { __type: this.code, Message: this.message, message: this.message, ...this.fields }
  }
}

// Status codes are the `smithy.api#httpError` traits of the Cloud Map model
// (see docs/cloud-map-facts.md, "Error shapes").

export function invalidInput(message: string): AwsError {
  return new AwsError('InvalidInput', 400, message)
}

export function namespaceNotFound(message: string): AwsError {
  return new AwsError('NamespaceNotFound', 404, message)
}

export function serviceNotFound(message: string): AwsError {
  return new AwsError('ServiceNotFound', 404, message)
}

export function instanceNotFound(message: string): AwsError {
  return new AwsError('InstanceNotFound', 404, message)
}

export function operationNotFound(message: string): AwsError {
  return new AwsError('OperationNotFound', 404, message)
}

export function customHealthNotFound(message: string): AwsError {
  return new AwsError('CustomHealthNotFound', 404, message)
}

export function namespaceAlreadyExists(message: string, namespaceId: string, creatorRequestId: string | undefined): AwsError {
  const fields: Record<string, string> = { NamespaceId: namespaceId }
  if (creatorRequestId !== undefined) fields['CreatorRequestId'] = creatorRequestId
  return new AwsError('NamespaceAlreadyExists', 400, message, fields)
}

export function serviceAlreadyExists(message: string, serviceId: string, serviceArn: string, creatorRequestId: string | undefined): AwsError {
  const fields: Record<string, string> = { ServiceId: serviceId, ServiceArn: serviceArn }
  if (creatorRequestId !== undefined) fields['CreatorRequestId'] = creatorRequestId
  return new AwsError('ServiceAlreadyExists', 400, message, fields)
}

export function duplicateRequest(message: string, duplicateOperationId: string): AwsError {
  return new AwsError('DuplicateRequest', 409, message, { DuplicateOperationId: duplicateOperationId })
}

export function resourceInUse(message: string): AwsError {
  return new AwsError('ResourceInUse', 409, message)
}

export function requestLimitExceeded(message: string): AwsError {
  return new AwsError('RequestLimitExceeded', 429, message)
}

// Protocol-level errors shared by every AWS JSON service (not in the Cloud Map model).

export function unknownOperation(message: string): AwsError {
  return new AwsError('UnknownOperationException', 400, message)
}

export function serializationError(message: string): AwsError {
  return new AwsError('SerializationException', 400, message)
}

export function internalFailure(message: string): AwsError {
  return new AwsError('InternalFailure', 500, message)
}
