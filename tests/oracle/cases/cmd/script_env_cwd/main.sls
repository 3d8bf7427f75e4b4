s:
  cmd.script:
    - name: salt://scripts/env.sh
    - cwd: @ROOT@/work
    - env:
      - WHO: saline
