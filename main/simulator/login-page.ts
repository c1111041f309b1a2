/**
 * The simulator's login page, in the place of the real gateway's `/sso/Login`: one button logs the
 * simulated user in, so a person can try the whole flow from a browser.
 */
export const LOGIN_REDIRECT = '/sso/Login?forwardTo=22&RL=1&ip2loc=US';

export function loginPage(userName: string): string {
  return (
    `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Client Portal Gateway (simulator): log in</title>
<style>
  body { font-family: system-ui, sans-serif; background: #f3f4f6; display: grid; place-items: center; ` +
    `min-height: 100vh; margin: 0; }
  form { background: #fff; padding: 2rem 2.5rem; border-radius: 8px; box-shadow: 0 2px 12px #0002; width: 20rem; }
  h1 { font-size: 1.2rem; margin: 0 0 .25rem; }
  p { color: #555; font-size: .9rem; margin: 0 0 1.25rem; }
  label { display: block; font-size: .85rem; margin: .75rem 0 .25rem; }
  input { width: 100%; box-sizing: border-box; padding: .5rem; border: 1px solid #bbb; border-radius: 4px; }
  button { margin-top: 1.25rem; width: 100%; padding: .6rem; border: 0; border-radius: 4px; background: ` +
    `#c41230; color: #fff; font-size: 1rem; cursor: pointer; }
</style>
</head>
<body>
<form method="post" action="/sso/Login">
  <h1>Client Portal Gateway</h1>
  <p>Simulator: any password logs in the paper user.</p>
  <label for="user">Username</label>
  <input id="user" name="user" value="${userName}" autocomplete="off">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" value="simulated">
  <button type="submit">Log in</button>
</form>
</body>
</html>
`
  );
}
