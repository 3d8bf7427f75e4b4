par_a:
  test.succeed_with_changes:
    - parallel: True
par_b:
  test.fail_without_changes:
    - parallel: True
needs_a:
  test.succeed_without_changes:
    - watch:
      - test: par_a
needs_b:
  test.succeed_without_changes:
    - require:
      - test: par_b
