// /var/runtime/index.mjs in AWS's Node.js base image, replaced: AWS's own /var/runtime/bootstrap
// still starts Node (its flags, NODE_OPTIONS, AWS_LAMBDA_EXEC_WRAPPER) and runs this file,
// which runs lambda-rapid's loop instead of the official one. A relative import: no package
// resolution on the cold-start path.
import './lambda-rapid/node_modules/lambda-rapid/index.mjs';
