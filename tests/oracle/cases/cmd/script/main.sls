s:
  cmd.script:
    - name: salt://scripts/hello.sh
    - args: one two
