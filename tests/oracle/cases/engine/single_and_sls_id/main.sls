a:
  test.succeed_with_changes:
    - require:
      - test: b
b:
  test.succeed_without_changes
c:
  test.nop
