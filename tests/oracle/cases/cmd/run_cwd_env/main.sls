where:
  cmd.run:
    - name: pwd; echo $GREETING
    - cwd: @ROOT@/work
    - env:
      - GREETING: hi there
