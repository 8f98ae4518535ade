"""Known real models: a registry (:mod:`.registry`) and ``aligncot models pull`` (:mod:`.pull`)."""
