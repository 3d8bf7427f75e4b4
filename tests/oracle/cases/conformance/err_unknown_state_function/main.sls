weird:
  test.no_such_function

marker:
  test.succeed_without_changes:
    - onlyif: touch {{ grains['tmp'] }}/marker
