many:
  test.succeed_with_changes:
    - names:
      - one
      - two:
        - comment: second
      - three
last_one:
  test.succeed_without_changes:
    - order: last
first_one:
  test.succeed_without_changes:
    - order: first
num:
  test.succeed_without_changes:
    - order: 5
neg:
  test.succeed_without_changes:
    - order: -1
