ok:
  cmd.run:
    - name: exit 2
    - success_retcodes: [2]
