include:
  - main
seen:
  cmd.run:
    - require:
      - environ: unset
    - name: echo "one=${SALINE_ORACLE_ONE-unset} two=$SALINE_ORACLE_TWO"
