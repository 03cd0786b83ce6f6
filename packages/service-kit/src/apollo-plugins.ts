import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import {
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';

/**
 * Plugins every Apollo server here installs: no landing page (Apollo's loads a hosted sandbox) and no usage or
 * schema reporting (both would call a hosted service if an APOLLO_KEY ever appeared in the environment).
 */
export function offlineApolloPlugins<Context extends BaseContext>(): ApolloServerPlugin<Context>[] {
  return [
    ApolloServerPluginLandingPageDisabled(),
    ApolloServerPluginUsageReportingDisabled(),
    ApolloServerPluginSchemaReportingDisabled(),
  ] as ApolloServerPlugin<Context>[];
}
