# no states: this case calls file execution functions
