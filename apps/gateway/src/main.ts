import 'reflect-metadata';
import { loadConfig } from '#libs/config';
import { createGatewayApp, startGateway } from './gateway.app.js';

const config = loadConfig();
const app = await createGatewayApp(config);
await startGateway(app, config);
