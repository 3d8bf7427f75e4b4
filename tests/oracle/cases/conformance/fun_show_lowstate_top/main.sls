late:
  test.succeed_without_changes:
    - order: last
pkgs:
  test.succeed_without_changes:
    - names:
      - b
      - a
early:
  test.succeed_without_changes:
    - order: 1
