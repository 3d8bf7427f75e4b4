c:
  cmd.run:
    - name: pwd
    - cwd: @ROOT@/work/nope
