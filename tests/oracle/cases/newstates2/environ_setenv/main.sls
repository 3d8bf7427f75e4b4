one:
  environ.setenv:
    - name: SALINE_ORACLE_ONE
    - value: first
again:
  environ.setenv:
    - name: SALINE_ORACLE_ONE
    - value: first
several:
  environ.setenv:
    - name: unused
    - value:
        SALINE_ORACLE_TWO: two
        SALINE_ORACLE_EMPTY: False
        SALINE_ORACLE_GONE: False
    - false_unsets: False
unset:
  environ.setenv:
    - name: SALINE_ORACLE_ONE
    - value: False
    - false_unsets: True
bad:
  environ.setenv:
    - name: X
    - value: 3
