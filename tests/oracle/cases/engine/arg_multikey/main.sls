multi:
  test.configurable_test_state:
    - changes: False
      result: True
      comment: from one item
