// Package protocol implements the server side of the AWS wire protocols the
// emulator speaks: awsJson1.1, awsQuery, restJson1 and Smithy RPC v2 CBOR.
//
// Responses of the schema-serialized services (ECS, CloudWatch, Lambda) are
// encoded with the SDK's own shape serializers, so every field the SDK knows
// round-trips with the exact member names and timestamp formats the client
// expects. Requests are decoded into the SDK's input structs, whose Go field
// names match the wire member names case-insensitively.
package protocol
