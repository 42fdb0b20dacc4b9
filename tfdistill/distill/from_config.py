"""The student a `tfdistill.config.StudentConfig` describes: its `BertConfig` (checked, nothing
built) and the model itself, initialised from the teacher."""


def student_bert_config(teacher_config, student):
    """Returns the student's `BertConfig` without building any weights, so a bad shape fails
    before training.

    Args:
        teacher_config: the teacher's `BertConfig`.
        student: `StudentConfig`.

    Returns:
        BertConfig.

    Raises:
        ValueError: a student no smaller than the teacher, or a shape BERT refuses (heads not
            dividing the width, ...).

    Example:
    >>> from tfdistill.config import StudentConfig
    >>> config = student_bert_config(teacher.bert_config, StudentConfig(layers=2, heads=2))
    >>> config.num_layers, config.num_heads, config.head_size  # 2 of the teacher's 4 heads of 8
    (2, 2, 8)
    """
    from tfdistill.distill.student import student_config

    return student_config(teacher_config, student.layers, student.hidden, student.heads, student.intermediate,
                          student.head_size, student.embedding_size)


def student_from_config(teacher, student, preprocessor, train_split):
    """Builds the student from the teacher (`tfdistill.distill.student_from_teacher`); when it
    keeps only some of the teacher's heads or units, they are scored on the first
    `student.importance_examples` training examples.

    Args:
        teacher: a tfdistill `BertModel`.
        student: `StudentConfig`.
        preprocessor: `tfdistill.data.TextClassifierPreprocessor`.
        train_split: `Split`, the training examples.

    Returns:
        the student `BertModel`.

    Raises:
        ValueError: as `student_bert_config`, or a layer map the teacher cannot follow.

    Example:
    >>> from tfdistill.config import StudentConfig
    >>> student = student_from_config(teacher, StudentConfig(layers=2, heads=2, intermediate=32), preprocessor,
    ...                               data.train)
    >>> student.bert_config.num_layers, student.bert_config.intermediate_size
    (2, 32)
    """
    from tfdistill.distill.student import student_from_teacher
    from tfdistill.distill.training import importance_features

    data = importance_features(preprocessor, train_split, student.importance_examples)
    return student_from_teacher(teacher, student.layers, hidden_size=student.hidden, num_heads=student.heads,
                                intermediate_size=student.intermediate, head_size=student.head_size,
                                embedding_init=student.embedding_init, layer_map=student.layer_map,
                                importance_data=data, embedding_size=student.embedding_size)
