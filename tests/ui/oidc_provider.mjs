// A real OpenID Provider on 127.0.0.1 for the single sign-on test (npm package oidc-provider 9,
// its development login form). Usage: node oidc_provider.mjs OP_PORT APP_PORT
// The test runs it from a folder whose node_modules holds oidc-provider (.ci/run installs it).
import Provider from 'oidc-provider';

const OP_PORT = Number(process.argv[2]);
const APP_PORT = Number(process.argv[3]);
const ISSUER = `http://127.0.0.1:${OP_PORT}`;
const CALLBACK = `http://127.0.0.1:${APP_PORT}/oauth2callback`;

// The people the provider knows; the app maps preferred_username to its local accounts.
const USERS = {
  'a-planner': { email: 'planner@example.go.jp', email_verified: true, name: '企画 花子' },
  'stranger': { email: 'stranger@example.go.jp', email_verified: true, name: '外部 太郎' },
};

const provider = new Provider(ISSUER, {
  clients: [{
    client_id: 'procurement-app',
    client_secret: 'procurement-secret-for-tests-only',
    redirect_uris: [CALLBACK],
    // Streamlit sends its redirect_uri as the post_logout_redirect_uri: register it.
    post_logout_redirect_uris: [CALLBACK],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  claims: { openid: ['sub', 'auth_time'], email: ['email', 'email_verified'],
            profile: ['name', 'preferred_username'] },
  // The claims in the ID token itself: st.user is read from it.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    const user = USERS[id];
    if (!user) return undefined;
    return { accountId: id, async claims() { return { sub: id, preferred_username: id, ...user }; } };
  },
  // A first-party client: no consent screen.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId,
                                                accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
  cookies: { keys: ['test-only-cookie-key'] },
  pkce: { required: () => false },
});
provider.on('server_error', (ctx, err) => console.error('server_error', err));
provider.on('authorization.error', (ctx, err) => console.error('authorization.error', err.message,
                                                                err.error_description));
provider.listen(OP_PORT, '127.0.0.1', () => console.log(`listening on ${ISSUER}`));
