include:
  - lib
a:
  test.succeed_without_changes:
    - name: x
extend:
  libstate:
    test.succeed_with_changes:
      - comment: extended
