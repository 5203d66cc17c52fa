// A real function's init: the AWS SDK's DynamoDB client and DocumentClient, built once at
// module load (no network call: nothing is sent until a command is), then an echo handler. Its
// cold start is mostly the function's own imports (cold-start-sdk, docs/benchmark.md).
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: process.env.AWS_REGION }));

export const handler = async (event) => (documents ? event : null);
