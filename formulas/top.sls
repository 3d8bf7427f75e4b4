# Which formulas each minion gets (state.apply with no argument, the highstate).
base:
  # Everyone: the accounts, and the baseline hardening on Debian-family hosts.
  '*':
    - users
  'os_family:Debian':
    - match: grain
    - hardening
  # Web servers, by name or by the `roles` grain (grains: {roles: [web]}).
  'web*':
    - web
  'roles:web':
    - match: grain
    - web
