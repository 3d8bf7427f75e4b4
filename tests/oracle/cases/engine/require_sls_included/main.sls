include:
  - web
after:
  test.succeed_without_changes:
    - require:
      - sls: web
