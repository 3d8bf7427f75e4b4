s:
  cmd.script:
    - name: salt://scripts/nope.sh
