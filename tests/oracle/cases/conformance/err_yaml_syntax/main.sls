include:
  - good
broken:
  test.succeed_without_changes:
    - comment: [unclosed
other:
  test.succeed_without_changes
