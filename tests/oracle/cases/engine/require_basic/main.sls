a:
  test.succeed_without_changes:
    - require:
      - test: b
b:
  test.succeed_with_changes
c:
  test.fail_without_changes
d:
  test.succeed_without_changes:
    - require:
      - c
