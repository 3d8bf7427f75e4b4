s:
  cmd.script:
    - name: salt://scripts/st.sh
    - stateful: True
