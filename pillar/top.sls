# Pillar top file: who gets which pillar data.
base:
  '*':
    - users
    - hardening
  # Web servers by name, or by the `roles` grain (grains: {roles: [web]}).
  'web*':
    - web
  'roles:web':
    - match: grain
    - web
