bad:
  cmd.run:
    - name: echo out; exit 3
after:
  cmd.run:
    - name: echo dependent
    - require:
      - cmd: bad
