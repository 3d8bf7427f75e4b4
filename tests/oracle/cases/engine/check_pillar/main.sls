ok:
  test.check_pillar:
    - present: role
    - string: role
    - verbose: True
bad:
  test.check_pillar:
    - present:
      - missing
    - integer: role
    - dictionary: nested
