include:
  - other
here:
  test.succeed_with_changes:
    - comment: shown

marker:
  test.succeed_without_changes:
    - onlyif: touch {{ grains['tmp'] }}/marker
