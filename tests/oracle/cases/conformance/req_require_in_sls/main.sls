include:
  - app
bootstrap:
  test.succeed_with_changes:
    - require_in:
      - sls: app
