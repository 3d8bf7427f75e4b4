needs_three:
  test.succeed_without_changes:
    - require:
      - test: third
      - test: second
    - watch:
      - test: first
first:
  test.succeed_with_changes
second:
  test.succeed_without_changes
third:
  test.succeed_without_changes
