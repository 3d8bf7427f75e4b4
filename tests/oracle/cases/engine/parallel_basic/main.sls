p1:
  test.succeed_with_changes:
    - parallel: True
p2:
  test.succeed_without_changes:
    - parallel: True
after:
  test.succeed_without_changes:
    - require:
      - test: p1
